"""Running the pack: the freshness watchdog (DAG ops_watchdog) and the SaaS Ops page."""
