"""Support operations: the ticket queue, first-response SLAs and CSAT (DAGs saas_support, support_sla_watch)."""
