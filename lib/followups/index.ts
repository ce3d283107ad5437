export { type RelayLoopOptions, type RelayLoopResult, runRelay } from './loop.js';
export { type RelayOptions, type RelayResult, relayFollowUps } from './relay.js';
