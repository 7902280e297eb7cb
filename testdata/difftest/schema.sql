-- The differential corpus's schema: run as is on the oracle (one plain
-- PostgreSQL) and through the coordinator (where it makes shell tables in
-- the metadata database, distributed afterwards by distribute.sql).
--
-- TPC-H-like tables (co-location groups are in distribute.sql):
--   region, nation                  reference tables
--   orders, lineitem                co-located on the order key (8 shards)
--   customer                        by c_custkey (4 shards, its own group)
--   part, partsupp                  co-located on the part key (4 shards)
--   supplier                        by s_suppkey (8 shards, its own group)
-- Tables exercising types and NULLs:
--   tag_events                      by a text column (4 shards)
--   devices                         by a uuid column (4 shards)
--   sparse                          by a bigint column (8 shards), NULL-heavy,
--                                   edge values (min/max ints, NaN, Infinity,
--                                   empty strings, unicode, odd timestamps)
--   segment_info                    local: stays in the metadata database
--
-- Primary keys include the distribution column (as Citus requires); there
-- are no foreign keys.

CREATE TABLE region (
    r_regionkey integer PRIMARY KEY,
    r_name      varchar(25) NOT NULL,
    r_comment   text
);

CREATE TABLE nation (
    n_nationkey integer PRIMARY KEY,
    n_name      varchar(25) NOT NULL,
    n_regionkey integer NOT NULL,
    n_comment   text
);

CREATE TABLE supplier (
    s_suppkey   integer PRIMARY KEY,
    s_name      varchar(25) NOT NULL,
    s_address   varchar(40) NOT NULL,
    s_nationkey integer NOT NULL,
    s_phone     varchar(15) NOT NULL,
    s_acctbal   numeric(12,2) NOT NULL,
    s_comment   text NOT NULL
);

CREATE TABLE customer (
    c_custkey    integer PRIMARY KEY,
    c_name       varchar(25) NOT NULL,
    c_address    varchar(40) NOT NULL,
    c_nationkey  integer NOT NULL,
    c_phone      varchar(15) NOT NULL,
    c_acctbal    numeric(12,2) NOT NULL,
    c_mktsegment varchar(10) NOT NULL,
    c_comment    text NOT NULL
);

CREATE TABLE part (
    p_partkey     integer PRIMARY KEY,
    p_name        varchar(55) NOT NULL,
    p_mfgr        varchar(25) NOT NULL,
    p_brand       varchar(10) NOT NULL,
    p_type        varchar(25) NOT NULL,
    p_size        integer NOT NULL,
    p_container   varchar(10) NOT NULL,
    p_retailprice numeric(12,2) NOT NULL,
    p_comment     text NOT NULL
);

CREATE TABLE partsupp (
    ps_partkey    integer NOT NULL,
    ps_suppkey    integer NOT NULL,
    ps_availqty   integer NOT NULL,
    ps_supplycost numeric(12,2) NOT NULL,
    ps_comment    text NOT NULL,
    PRIMARY KEY (ps_partkey, ps_suppkey)
);

CREATE TABLE orders (
    o_orderkey      integer PRIMARY KEY,
    o_custkey       integer NOT NULL,
    o_orderstatus   char(1) NOT NULL,
    o_totalprice    numeric(12,2) NOT NULL,
    o_orderdate     date NOT NULL,
    o_orderpriority varchar(15) NOT NULL,
    o_clerk         varchar(15) NOT NULL,
    o_shippriority  integer NOT NULL,
    o_comment       text -- NULL in about 5% of the rows
);

CREATE TABLE lineitem (
    l_orderkey      integer NOT NULL,
    l_partkey       integer NOT NULL,
    l_suppkey       integer NOT NULL,
    l_linenumber    integer NOT NULL,
    l_quantity      numeric(12,2) NOT NULL,
    l_extendedprice numeric(12,2) NOT NULL,
    l_discount      numeric(12,2) NOT NULL,
    l_tax           numeric(12,2) NOT NULL,
    l_returnflag    char(1) NOT NULL,
    l_linestatus    char(1) NOT NULL,
    l_shipdate      date NOT NULL,
    l_commitdate    date NOT NULL,
    l_receiptdate   date NOT NULL,
    l_shipinstruct  varchar(25) NOT NULL,
    l_shipmode      varchar(10) NOT NULL,
    l_comment       text NOT NULL,
    PRIMARY KEY (l_orderkey, l_linenumber)
);

-- Distributed by text: tags repeat (several events per tag), and include
-- the empty string, unicode and case variants.
CREATE TABLE tag_events (
    tag     text NOT NULL,
    seq     integer NOT NULL,
    label   varchar(40),
    note    text,
    amount  numeric(10,2),
    flag    boolean,
    custkey integer, -- joins customer; NULL sometimes
    PRIMARY KEY (tag, seq)
);

-- Distributed by uuid.
CREATE TABLE devices (
    device_id  uuid PRIMARY KEY,
    owner      integer,          -- a c_custkey, NULL sometimes
    kind       text NOT NULL,
    reading    double precision, -- includes NaN, Infinity, -Infinity, -0
    registered timestamptz,
    tags       text[],
    meta       jsonb
);

-- Distributed by bigint; most other columns are NULL in many rows.
CREATE TABLE sparse (
    id    bigint PRIMARY KEY,
    i4    integer,          -- includes -2147483648 and 2147483647
    i2    smallint,         -- includes -32768 and 32767
    i8    bigint,           -- includes the bigint extremes
    num   numeric,          -- includes NaN, Infinity, -Infinity, huge and tiny values
    f8    double precision, -- includes NaN, Infinity, -Infinity
    txt   text,             -- includes '', unicode, spaces, quotes, backslashes
    b     boolean,
    ts    timestamp,        -- includes 'infinity', '-infinity', BC dates, microseconds
    d     date,
    okey  integer           -- an o_orderkey or a key that matches nothing, NULL often
);

-- A local table: never distributed, lives in the metadata database.
CREATE TABLE segment_info (
    segment     varchar(10) PRIMARY KEY,
    weight      integer NOT NULL,
    description text
);
