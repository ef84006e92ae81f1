"""opready's pure core: the rubric, scoring, evidence, recommendations and projections.

Nothing in this package imports Django or the apps (a test enforces it): it takes plain
values and returns plain values, so the same inputs always give the same result.
"""
