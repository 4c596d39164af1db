-- The optional source table acquisition_spend (SPEC: CAC), as the demo has it; a source may leave it out.
CREATE TABLE {schema}.acquisition_spend (
    month date NOT NULL,
    channel text NOT NULL,
    amount_cents bigint NOT NULL,
    currency text NOT NULL,
    PRIMARY KEY (month, channel)
);
