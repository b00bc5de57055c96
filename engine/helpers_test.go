package engine_test

import "time"

func nowUTC() time.Time { return time.Now().UTC() }
