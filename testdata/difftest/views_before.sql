-- Views created while their tables are still local, run after schema.sql
-- on both sides (through the coordinator before distribute.sql): once the
-- tables are distributed pgfed must expand them over the shards, not read
-- the empty shells.

CREATE VIEW v_open_orders AS
    SELECT o_orderkey, o_custkey, o_totalprice, o_orderdate FROM orders WHERE o_orderstatus = 'O';

CREATE VIEW v_nation_region (nation, nationkey, region) AS
    SELECT n.n_name, n.n_nationkey, r.r_name FROM nation n JOIN region r ON r.r_regionkey = n.n_regionkey;
