"""The dashboard service: the complaint-handling read model, the dashboard pages and the M&E
reports (district → province → national)."""
