package catalog_test

import (
	"errors"
	"fmt"

	"github.com/pgfed/pgfed/catalog"
)

// The coordinator routes WHERE id = 123 on a table distributed by an
// integer column over 32 shards.
func ExampleHashText() {
	h, err := catalog.HashText(catalog.TypeInt4, "123")
	if err != nil {
		panic(err)
	}
	fmt.Println(h, catalog.ShardIndex(h, 32))
	// Output: -205084363 14
}

// Bad literals fail as PostgreSQL fails, with its SQLSTATE.
func ExampleHashText_errors() {
	_, err := catalog.HashText(catalog.TypeInt4, "2147483648")
	var ie *catalog.InputError
	if errors.As(err, &ie) {
		fmt.Println(ie.SQLState(), ie)
	}
	_, err = catalog.HashText(catalog.Type(3802), "{}")
	fmt.Println(errors.Is(err, catalog.ErrUnsupportedType), err)
	// Output:
	// 22003 value "2147483648" is out of range for type integer
	// true cannot hash values of type 3802: unsupported type
}

func ExampleShardRanges() {
	rs, _ := catalog.ShardRanges(4)
	fmt.Println(rs)
	// Output: [[-2147483648,-1073741825] [-1073741824,-1] [0,1073741823] [1073741824,2147483647]]
}
