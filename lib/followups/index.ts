export { type RelayOptions, type RelayResult, relayFollowUps } from './relay.js';
