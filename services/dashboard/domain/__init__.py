"""The dashboard's rules, free of HTTP and storage: folding transitions into facts, reporting
periods, the place hierarchy and what a viewer may see, small-cell suppression, labelled tables
and the planning scorecard."""
