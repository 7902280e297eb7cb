-- Views over distributed tables, created through the coordinator after
-- distribute.sql (on the oracle after schema.sql): simple ones that pgfed
-- merges into the query, nested ones, one with column aliases, one that
-- groups (kept a subquery), one over a co-located join.

CREATE VIEW v_big_lines (okey, line, qty, price) AS
    SELECT l_orderkey, l_linenumber, l_quantity, l_extendedprice FROM lineitem WHERE l_quantity > 30;

CREATE VIEW v_big_open AS
    SELECT o_orderkey, o_custkey, o_totalprice FROM v_open_orders WHERE o_totalprice > 100000;

CREATE VIEW v_order_lines AS
    SELECT o.o_orderkey, o.o_orderdate, l.l_linenumber, l.l_extendedprice * (1 - l.l_discount) AS revenue
    FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey;

CREATE VIEW v_cust_totals AS
    SELECT o_custkey, count(*) AS orders, sum(o_totalprice) AS total FROM orders GROUP BY o_custkey;

CREATE VIEW v_supplier_nation AS
    SELECT s.s_suppkey, s.s_name, vn.nation, vn.region
    FROM supplier s JOIN v_nation_region vn ON vn.nationkey = s.s_nationkey;

CREATE VIEW v_sparse_nonnull AS
    SELECT id, i4, txt FROM sparse WHERE i4 IS NOT NULL;
