/** The unit a snapshot holds: a key, a value and an optional absolute expiry. */
export {};
//# sourceMappingURL=entry.js.map