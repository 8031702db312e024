package suggest

import "testing"

func TestClosest(t *testing.T) {
	kinds := []string{"menu", "list", "input", "branch", "set", "call", "message", "end", "goto"}
	cases := map[string]string{"manu": "menu", "inptu": "input", "mesage": "message", "zzzzzz": "", "x": "", "goto": "goto"}
	for in, want := range cases {
		if got := Closest(in, kinds); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	if d := Distance("kitten", "sitting"); d != 3 {
		t.Errorf("Distance = %d", d)
	}
}
