package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection enforces the layout the design fixes: the domain
// imports nothing of the project and only the standard library; dialogs
// only the domain; only configs imports koanf; nothing imports the WeChat
// SDK's root package (it turns on process-wide debug logging).
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "gridbot/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			project := strings.HasPrefix(imp, "gridbot/")
			stdlib := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
			switch {
			case pkg == "gridbot/core" && (project || !stdlib):
				t.Errorf("core imports %s: the domain must stand alone", imp)
			case pkg == "gridbot/dialogs" && !stdlib && imp != "gridbot/core":
				t.Errorf("dialogs imports %s: only the domain is allowed", imp)
			case strings.HasPrefix(imp, "github.com/knadh/koanf") && pkg != "gridbot/configs":
				t.Errorf("%s imports koanf: only configs may", pkg)
			case imp == "github.com/silenceper/wechat/v2":
				t.Errorf("%s imports the SDK's root package", pkg)
			case strings.HasPrefix(imp, "github.com/valkey-io/valkey-go") && !strings.HasPrefix(pkg, "gridbot/store/valkey") && !strings.HasPrefix(pkg, "gridbot/routing/valkey"):
				t.Errorf("%s imports valkey-go: only the Valkey store and transport may", pkg)
			}
		}
	}
}
