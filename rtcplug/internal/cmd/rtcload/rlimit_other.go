//go:build !unix

package main

func checkFileLimit(int) {}
