package engine

// LoginDelay exposes loginDelay to the engine_test package.
var LoginDelay = loginDelay
