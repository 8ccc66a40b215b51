/**
 * The PPP unit's view of MPPE (RFC 3078): the engine itself lives in
 * src/mppe/mppe.ts, below both the unit and the `decode` dissector, so the
 * data path and offline decryption share one key schedule and one
 * coherency-count receive implementation.
 */
export * from '../mppe/mppe.js';
