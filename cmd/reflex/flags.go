package main

import "github.com/reflexops/reflex/config"

// byteSize is a flag holding a size in bytes, written as a number with an
// optional KiB, MiB or GiB suffix (KB, MB and GB are accepted as the same).
type byteSize int64

func (b *byteSize) String() string { return config.FormatSize(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := config.ParseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (*byteSize) Type() string { return "size" }
