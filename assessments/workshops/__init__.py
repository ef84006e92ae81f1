"""Live workshops: a facilitator runs a session in which a room votes on each capability's
anchored levels from their phones, sees the distribution, and agrees a level per capability.
The agreed levels feed scoring as a source of their own (scoring.workshop)."""
