"""The demo ledger: a schema like an in-house invoicing system's, and Accord's mapping to it.

The schema is not Accord's (a real ledger has its own); it shows the connector writing
customers, sales orders and their lines with keys that make repeated deliveries harmless.
A merge (``account.merged``) upserts the survivor and links each merged-away customer code
to it in ``ledger_customer_aliases`` (old code → survivor's code), so invoices and orders
filed under an old code can be found under the survivor.
"""

from __future__ import annotations

from typing import Any

# Works on MySQL/MariaDB and SQLite.
DEMO_SCHEMA_SQL = """
CREATE TABLE ledger_customers (
    cust_code VARCHAR(12) NOT NULL PRIMARY KEY,
    cust_name VARCHAR(255) NOT NULL,
    tax_id VARCHAR(13) NOT NULL DEFAULT '',
    branch VARCHAR(5) NOT NULL DEFAULT '00000',
    province VARCHAR(120) NOT NULL DEFAULT '',
    postcode VARCHAR(10) NOT NULL DEFAULT '',
    status VARCHAR(16) NOT NULL DEFAULT 'active',
    crm_id VARCHAR(36) NOT NULL
);
CREATE TABLE ledger_sales_orders (
    crm_ref VARCHAR(36) NOT NULL PRIMARY KEY,
    cust_code VARCHAR(12) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    amount DECIMAL(16, 2),
    currency CHAR(3) NOT NULL DEFAULT 'THB',
    status VARCHAR(16) NOT NULL DEFAULT 'open',
    won_at VARCHAR(40)
);
CREATE TABLE ledger_sales_order_lines (
    crm_ref VARCHAR(36) NOT NULL,
    line_no INTEGER NOT NULL,
    item_code VARCHAR(40) NOT NULL,
    description VARCHAR(200) NOT NULL DEFAULT '',
    qty DECIMAL(12, 2) NOT NULL,
    unit_price DECIMAL(16, 2) NOT NULL,
    discount_pct DECIMAL(5, 2) NOT NULL DEFAULT 0,
    line_total DECIMAL(16, 2) NOT NULL,
    PRIMARY KEY (crm_ref, line_no)
);
CREATE TABLE ledger_invoices (
    inv_no VARCHAR(20) NOT NULL PRIMARY KEY,
    cust_code VARCHAR(12) NOT NULL,
    crm_ref VARCHAR(36) NOT NULL DEFAULT '',
    amount DECIMAL(16, 2) NOT NULL,
    paid DECIMAL(16, 2) NOT NULL DEFAULT 0,
    currency CHAR(3) NOT NULL DEFAULT 'THB',
    inv_date DATE,
    due_date DATE,
    status VARCHAR(8) NOT NULL DEFAULT 'OPEN',
    updated_at VARCHAR(26) NOT NULL
);
CREATE TABLE ledger_customer_aliases (
    old_code VARCHAR(12) NOT NULL PRIMARY KEY,
    cust_code VARCHAR(12) NOT NULL,
    old_crm_id VARCHAR(36) NOT NULL
)
"""


def demo_schema_statements() -> list[str]:
    return [s.strip() for s in DEMO_SCHEMA_SQL.split(";") if s.strip()]


_CUSTOMER_COLUMNS = {
    "cust_code": "account.customer_code",
    "cust_name": "account.legal_name",
    "tax_id": "account.tax_id",
    "branch": "account.branch_code",
    "province": "account.province",
    "postcode": "account.postal_code",
    "status": "account.status",
    "crm_id": "account.id",
}

_ORDER = {
    "table": "ledger_sales_orders",
    "key": ["crm_ref"],
}

DEMO_LEDGER_MAPPING: dict[str, Any] = {
    "account.approved": {
        "table": "ledger_customers",
        "key": ["cust_code"],
        "columns": {
            "cust_code": "account.customer_code",
            "cust_name": "account.legal_name",
            "tax_id": "account.tax_id",
            "branch": "account.branch_code",
            "province": "account.province",
            "postcode": "account.postal_code",
            "status": "account.status",
            "crm_id": "account.id",
        },
    },
    "account.updated": {
        "table": "ledger_customers",
        "key": ["cust_code"],
        "columns": {
            "cust_code": "account.customer_code",
            "cust_name": "account.legal_name",
            "tax_id": "account.tax_id",
            "branch": "account.branch_code",
            "province": "account.province",
            "postcode": "account.postal_code",
            "status": "account.status",
            "crm_id": "account.id",
        },
    },
    "account.merged": {
        "table": "ledger_customers",
        "key": ["cust_code"],
        "columns": _CUSTOMER_COLUMNS,
        # id remap: every merged-away code points at the survivor (a later merge adds to
        # the list, so nothing is pruned; an old code merged again moves to its new home)
        "lines": {
            "table": "ledger_customer_aliases",
            "path": "merged",
            "parent": {"cust_code": "account.customer_code"},
            "key": ["old_code"],
            "prune": False,
            "columns": {"old_code": "customer_code", "old_crm_id": "id"},
        },
    },
    "opportunity.won": {
        **_ORDER,
        "columns": {
            "crm_ref": "opportunity.id",
            "cust_code": "opportunity.customer_code",
            "description": "opportunity.name",
            "amount": "opportunity.amount",
            "currency": "opportunity.currency",
            "status": {"const": "open"},
            "won_at": "opportunity.closed_at",
        },
        "lines": {
            "table": "ledger_sales_order_lines",
            "path": "opportunity.line_items",
            "parent": {"crm_ref": "opportunity.id"},
            "key": ["crm_ref", "line_no"],
            "columns": {
                "line_no": "position",
                "item_code": "product_code",
                "description": "product_name",
                "qty": "quantity",
                "unit_price": "unit_price",
                "discount_pct": "discount_percent",
                "line_total": "total",
            },
        },
    },
    "opportunity.reopened": {
        **_ORDER,
        "columns": {
            "crm_ref": "opportunity.id",
            "cust_code": "opportunity.customer_code",
            "status": {"const": "cancelled"},
        },
    },
    # Inbound: the ledger's invoices, read in the order they change (accord/integration/
    # invoices.py). Accord field → ledger column; the ledger's status codes → Accord's.
    "invoices.pull": {
        "table": "ledger_invoices",
        "cursor": "updated_at",
        "columns": {
            "invoice_number": "inv_no",
            "customer_code": "cust_code",
            "order_ref": "crm_ref",
            "amount": "amount",
            "paid_amount": "paid",
            "currency": "currency",
            "issued_on": "inv_date",
            "due_date": "due_date",
            "status": "status",
            "ledger_updated_at": "updated_at",
        },
        "status_map": {
            "OPEN": "open",
            "PART": "partially_paid",
            "PAID": "paid",
            "VOID": "cancelled",
        },
    },
}
