/** RADIUS codec: packets, the attribute dictionary, the printer. */
export * from './attributes.js';
export * from './packet.js';
export * from './print.js';
