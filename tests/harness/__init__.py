"""What tests and benchmarks share: the servers, the scenarios, builds and DAG runs."""
