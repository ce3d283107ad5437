export { getDb, setDb } from './connection.js';
export { MIGRATIONS_DIR, migrate } from './migrate.js';
export { createPgDb } from './pg.js';
export { DatabaseUnavailableError, type Db, type Queryable, type QueryResult } from './types.js';
