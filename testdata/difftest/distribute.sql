-- Run through the coordinator after schema.sql and the data are loaded:
-- each call moves the shell's rows into the shards. Reference tables
-- first; a co-located table after the table it is co-located with.

SELECT create_reference_table('region');
SELECT create_reference_table('nation');

-- orders and lineitem share one co-location group on the order key.
SELECT create_distributed_table('orders', 'o_orderkey', shard_count => 8, colocate_with => 'none');
SELECT create_distributed_table('lineitem', 'l_orderkey', colocate_with => 'orders');

-- customer: int4 like orders but 4 shards and its own group, so that
-- orders JOIN customer ON o_custkey = c_custkey is not co-located.
SELECT create_distributed_table('customer', 'c_custkey', shard_count => 4, colocate_with => 'none');

-- part and partsupp co-located on the part key.
SELECT create_distributed_table('part', 'p_partkey', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('partsupp', 'ps_partkey', colocate_with => 'part');

-- supplier: 8 shards like orders but not co-located with it.
SELECT create_distributed_table('supplier', 's_suppkey', shard_count => 8, colocate_with => 'none');

SELECT create_distributed_table('tag_events', 'tag', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('devices', 'device_id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('sparse', 'id', shard_count => 8, colocate_with => 'none');

-- segment_info stays local.
