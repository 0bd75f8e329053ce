"""Ways to show a grading result: the terminal scorecard and the JSON document."""
