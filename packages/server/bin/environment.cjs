// What native code in the inlet process reads from the environment once, when it starts: set here,
// before Node reads any module on libuv's thread pool and before DuckDB's library loads. A value
// already in the environment wins. CommonJS, so that requiring it reads no file on the pool.

// libuv's thread pool runs the WAL's fsyncs (and every other file operation), and DuckDB runs each
// query, load, model build and table copy on one of its threads until it ends. At libuv's default
// of 4 threads, when queries still ran in the server, four dashboard queries (query.max_concurrent)
// held all of them, and every acknowledgement waited up to 17 s for the queries to finish. People's
// SQL now runs in the query engine's own process, which inherits this value for its queries; in
// the server, 16 leaves room for a load, a model build, a table copy and a catalog look, and 4
// threads for files. `inlet start` warns when UV_THREADPOOL_SIZE is too small for the DuckDB work
// of its roles.
process.env.UV_THREADPOOL_SIZE ??= '16';

// DuckDB allocates through a jemalloc of its own, which by default keeps freed pages for reuse and
// then only marks them free, still counted in RSS. Here a freed page waits a second for reuse, then
// goes back to the system; src/engine/allocator.ts has why, and the background threads this needs.
process.env.DUCKDB_JE_MALLOC_CONF ??= 'dirty_decay_ms:1000,muzzy_decay_ms:0';
