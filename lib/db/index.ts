export { getDb, setDb } from './connection.js';
export { migrate, MIGRATIONS_DIR } from './migrate.js';
export { createPgDb } from './pg.js';
export { DatabaseUnavailableError, type Db, type Queryable, type QueryResult } from './types.js';
