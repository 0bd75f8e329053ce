"""dockerlab: grade Docker-for-ML labs by building and running what the learner wrote."""

__version__ = "0.1.0"
