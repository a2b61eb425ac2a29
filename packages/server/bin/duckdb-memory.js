// DuckDB allocates through a jemalloc of its own, which by default keeps the pages it frees for
// reuse instead of returning them: after the loader's read_json and Parquet writer have run, the
// process sat on 100–175 MB DuckDB no longer used, and the peak grew from one segment to the next.
// Pages returned at once (decay 0) hold a loaded segment's cost to its own copy, at no measured
// cost to load or query speed (docs/benchmarks.md). jemalloc reads this when DuckDB's library
// loads, so it is set here, before anything imports DuckDB; a value in the environment wins.
process.env.DUCKDB_JE_MALLOC_CONF ??= 'dirty_decay_ms:0,muzzy_decay_ms:0';
