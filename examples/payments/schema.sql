-- The payments example's schema (README.md, "Federation: transactions
-- across banks"). Every bank is an organization of the
-- federation: pgfed dev --orgs 3 names them org1, org2, org3.
--
-- Run it through the coordinator:
--
--     psql -h 127.0.0.1 -p 6432 -U postgres -f examples/payments/schema.sql
--
-- banks: one row per bank, a reference table (a copy on every worker);
-- the payments program fills it from pgfed_organizations.
CREATE TABLE banks (
    name         text PRIMARY KEY,
    display_name text NOT NULL
);
SELECT create_reference_table('banks');

-- accounts: each bank's accounts live on that bank's own workers only
-- (distributed by organization: the bank column names the organization).
CREATE TABLE accounts (
    bank    text   NOT NULL,
    id      bigint NOT NULL,
    owner   text   NOT NULL,
    balance bigint NOT NULL CHECK (balance >= 0),
    PRIMARY KEY (bank, id)
);
SELECT create_distributed_table('accounts', 'bank', distribution_type => 'org');

-- transfers: the history. A transfer writes one row at the debited bank
-- and one at the credited bank, in the same transaction as the balances:
-- both banks keep their side of every payment.
CREATE TABLE transfers (
    bank          text        NOT NULL,
    transfer_id   bigint      NOT NULL,
    side          text        NOT NULL CHECK (side IN ('debit', 'credit')),
    account       bigint      NOT NULL,
    amount        bigint      NOT NULL,
    other_bank    text        NOT NULL,
    other_account bigint      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank, transfer_id, side)
);
SELECT create_distributed_table('transfers', 'bank', distribution_type => 'org');
