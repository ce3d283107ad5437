export { getDb, setDb } from './connection.js';
export { createPgDb } from './pg.js';
export { DatabaseUnavailableError, type Db, type Queryable, type QueryResult } from './types.js';
