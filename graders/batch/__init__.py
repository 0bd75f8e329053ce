"""Batch grading for instructors: many submissions, one lab, results a gradebook can take."""
