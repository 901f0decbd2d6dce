//go:build !race

package vp8

const raceEnabled = false
