"""The source contract check: the demo DDL satisfies it, and a broken source is reported column by column."""

from __future__ import annotations

import psycopg
import pytest

from saas_ops import contract, db


@pytest.fixture
def source(databases):
    """The source database with the contract's DDL in a scratch schema, dropped afterwards."""
    with psycopg.connect(databases["app"], autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS contract_test CASCADE")
        conn.execute(db.compose(db.read_sql("contract/app_schema.sql"), schema="contract_test"))
        yield conn
        conn.execute("DROP SCHEMA contract_test CASCADE")


def test_the_demo_ddl_meets_the_contract(source):
    summary = contract.check_source(source, "contract_test")
    assert summary["tables"] == sorted(contract.SOURCE_CONTRACT)
    assert summary["absent_optional_columns"] == {}


def test_missing_and_mistyped_columns_are_each_named(source):
    source.execute("ALTER TABLE contract_test.users DROP COLUMN email")
    source.execute("ALTER TABLE contract_test.events ALTER COLUMN occurred_at TYPE timestamp")
    source.execute("DROP TABLE contract_test.fx_rates")
    with pytest.raises(contract.SourceContractError) as err:
        contract.check_source(source, "contract_test")
    message = str(err.value)
    assert "3 problem(s)" in message
    assert "contract_test.users.email: required column is missing (expected text)" in message
    assert "contract_test.events.occurred_at: expected timestamptz" in message
    assert "found timestamp without time zone" in message
    assert "contract_test.fx_rates: table or view is missing" in message


def test_optional_columns_may_be_left_out_of_a_view(source):
    # A user's view without the nullable columns: allowed, reported, read as null.
    source.execute("ALTER TABLE contract_test.customers RENAME TO customers_raw")
    source.execute("CREATE VIEW contract_test.customers AS SELECT customer_id, name, created_at "
                   "FROM contract_test.customers_raw")
    summary = contract.check_source(source, "contract_test")
    assert summary["absent_optional_columns"] == {
        "customers": ["country", "segment", "account_owner_name", "account_owner_email"]}


def test_an_absent_optional_column_is_read_as_a_typed_null():
    """The select-list pieces every extract takes: the column where the view has it, a typed NULL where not."""
    columns = contract.optional_columns({"invoices": ["due_at"], "support_tickets": ["csat"]})
    as_sql = {table: {name: piece.as_string(None) for name, piece in cols.items()} for table, cols in columns.items()}
    assert as_sql["invoices"] == {"subscription_id": '"subscription_id"', "due_at": "NULL::timestamptz"}
    assert as_sql["support_tickets"] == {"first_response_at": '"first_response_at"', "resolved_at": '"resolved_at"',
                                         "csat": "NULL::integer"}
    assert as_sql["users"] == {"name": '"name"'} and as_sql["fx_rates"] == {}


def test_id_columns_accept_integers_but_join_keys_must_be_text():
    valid = {"text": "text", "id": "text", "integer": "integer", "cents": "bigint", "numeric": "numeric",
             "timestamptz": "timestamp with time zone", "date": "date", "boolean": "boolean", "json": "jsonb"}
    found = {table: {c.name: valid[c.family] for c in cols} for table, cols in contract.SOURCE_CONTRACT.items()}
    found["invoices"]["invoice_id"] = "bigint"        # an integer id: fine
    found["events"]["customer_id"] = "bigint"         # a join key: must be text
    problems, _ = contract.find_problems(found, "app")
    assert problems == ["app.events.customer_id: expected text (character, character varying, text), found bigint"]


def test_an_optional_table_may_be_absent_but_when_present_is_checked(source):
    """acquisition_spend (for CAC) may be missing; when it is there, a missing or mistyped column is named."""
    assert contract.check_source(source, "contract_test")["tables"] == sorted(contract.SOURCE_CONTRACT)
    source.execute("CREATE TABLE contract_test.acquisition_spend (month date, channel text, amount_cents text)")
    with pytest.raises(contract.SourceContractError) as err:
        contract.check_source(source, "contract_test")
    assert "2 problem(s)" in str(err.value)
    assert "contract_test.acquisition_spend.amount_cents: expected cents" in str(err.value)
    assert "contract_test.acquisition_spend.currency: required column is missing (expected text)" in str(err.value)
    source.execute("DROP TABLE contract_test.acquisition_spend")
    source.execute("CREATE TABLE contract_test.acquisition_spend (month date, amount_cents bigint, currency text)")
    summary = contract.check_source(source, "contract_test")
    assert "acquisition_spend" in summary["tables"] and summary["absent_optional_columns"] == {
        "acquisition_spend": ["channel"]}
