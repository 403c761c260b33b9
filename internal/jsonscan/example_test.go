package jsonscan_test

import (
	"fmt"

	"github.com/tessera-da/tessera/internal/jsonscan"
)

func Example() {
	body := []byte(`{"method":"blob.Submit","params":[[{"data":"aGk="}],null]}`)
	if !jsonscan.Valid(body) {
		fmt.Println("not JSON")
		return
	}
	members, _ := jsonscan.SplitObject(body)
	for _, m := range members {
		if match, _ := jsonscan.KeyIs(m.Key, "params"); match {
			params, _ := jsonscan.SplitArray(m.Value)
			for _, p := range params {
				fmt.Printf("%s\n", p)
			}
		}
	}
	// Output:
	// [{"data":"aGk="}]
	// null
}
