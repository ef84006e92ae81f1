"""Pure process logic: suitability, the pilot backlog, catalogue tables and event-log analysis.

No Django here (a test checks): everything takes and returns plain values.
"""
