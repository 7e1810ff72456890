"""The staff console: server-rendered screens for front office, back office, supervisors,
managers, program managers, facilitators and administrators, on the public APIs only."""
