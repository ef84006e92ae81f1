"""The process catalogue: how the work is done, measured from event logs where they exist, and
ranked for agent pilots.

The pure core (`assessments.processes.core`) imports no Django: log analysis and the
suitability and ranking rules take and return plain data. The Django side (models, services,
pages, the log-analysis job) wraps it. This file must not import Django either: importing the
core imports this package first.
"""
