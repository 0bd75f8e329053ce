"""The course's "private" package: what a company's internal index would serve (a stand-in)."""

__version__ = "1.0.0"

ABOUT = {
    "setosa": "Iris setosa: short, broad petals",
    "versicolor": "Iris versicolor: medium petals",
    "virginica": "Iris virginica: long, wide petals",
}


def about(species: str) -> str:
    return ABOUT.get(species, species)
