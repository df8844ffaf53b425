package samples

import (
	"archive/zip"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

//go:embed all:programs
var embedded embed.FS

// programs is the tree the bundles copy from (tests swap it).
var programs fs.FS = embedded

// Languages are the sample languages, in the order the console offers them
// (Python first, preselected).
var Languages = []string{"python", "javascript", "go", "java"}

// ClientTypes are the config's client_type values (WIRE.md §9).
var ClientTypes = []string{"web", "pkce", "device", "jwt"}

// ErrUnknownLanguage and ErrUnknownClientType refuse a bundle that cannot be
// built; the wrapped message names the value and the valid ones.
var (
	ErrUnknownLanguage   = errors.New("unknown sample language")
	ErrUnknownClientType = errors.New("unknown client type")
)

// Names of the files the generator writes itself; a program file of the same
// name is not copied.
const (
	ConfigFile = "coze_oauth_config.json"
	ReadmeFile = "README.md"
)

// CheckLanguage refuses anything but the four languages.
func CheckLanguage(lang string) error {
	if !slices.Contains(Languages, lang) {
		return fmt.Errorf("%w %q: want %s", ErrUnknownLanguage, lang, strings.Join(Languages, ", "))
	}
	return nil
}

// TypeOf maps an app's client type to the config's client_type.
func TypeOf(t store.ClientType) (string, error) {
	switch t {
	case store.ClientWebBackend:
		return "web", nil
	case store.ClientSinglePageOrNative:
		return "pkce", nil
	case store.ClientTerminal:
		return "device", nil
	case store.ClientService:
		return "jwt", nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownClientType, t)
}

func checkType(typ string) error {
	if !slices.Contains(ClientTypes, typ) {
		return fmt.Errorf("%w %q: want %s", ErrUnknownClientType, typ, strings.Join(ClientTypes, ", "))
	}
	return nil
}

// Config is coze_oauth_config.json with exactly the keys of Coze's own
// downloads, in their order (WIRE.md §9); the keys that do not apply to the
// client type are left out.
type Config struct {
	ClientType   string `json:"client_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"` // web
	PrivateKey   string `json:"private_key,omitempty"`   // jwt: PKCS#8 PEM
	PublicKeyID  string `json:"public_key_id,omitempty"` // jwt: the JWT kid
	CozeAPIBase  string `json:"coze_api_base"`
	CozeWWWBase  string `json:"coze_www_base"`
}

// Validate checks what every SDK loader requires of the config's type.
func (c Config) Validate() error {
	if err := checkType(c.ClientType); err != nil {
		return err
	}
	missing := func(name string) error {
		return fmt.Errorf("sample config: %s is required for client_type %s", name, c.ClientType)
	}
	switch {
	case c.ClientID == "":
		return missing("client_id")
	case c.CozeAPIBase == "":
		return missing("coze_api_base")
	case c.CozeWWWBase == "":
		return missing("coze_www_base")
	case c.ClientType == "web" && c.ClientSecret == "":
		return missing("client_secret")
	case c.ClientType == "jwt" && c.PrivateKey == "":
		return missing("private_key")
	case c.ClientType == "jwt" && c.PublicKeyID == "":
		return missing("public_key_id")
	case c.ClientType != "web" && c.ClientSecret != "":
		return fmt.Errorf("sample config: client_secret belongs only to client_type web")
	case c.ClientType != "jwt" && (c.PrivateKey != "" || c.PublicKeyID != ""):
		return fmt.Errorf("sample config: private_key and public_key_id belong only to client_type jwt")
	}
	return nil
}

// Marshal returns the config file: 2-space indented JSON and a final newline.
func (c Config) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// file is one program file of a bundle: its name at the top of the zip and
// its path in the embedded tree.
type file struct{ name, src string }

// skipped are build and editor leftovers never copied into a bundle.
func skipped(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules" ||
		strings.HasSuffix(name, ".pyc") || strings.HasSuffix(name, ".class") || name == ConfigFile || name == ReadmeFile
}

// programFiles lists the program files of lang × typ: common, then the type's
// files overriding those of the same name; sorted by name.
func programFiles(lang, typ string) ([]file, error) {
	if err := CheckLanguage(lang); err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, dir := range []string{"common", typ} {
		root := path.Join("programs", lang, dir)
		err := fs.WalkDir(programs, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == root {
					return fs.SkipDir
				}
				return err
			}
			if skipped(d.Name()) && p != root {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				byName[d.Name()] = p
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("samples: there is no %s program for client type %s in this build", lang, typ)
	}
	out := make([]file, 0, len(byName))
	for name, src := range byName {
		out = append(out, file{name, src})
	}
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// Files lists the names at the top of the zip of lang × typ: the config, the
// README, then the program files in name order.
func Files(lang, typ string) ([]string, error) {
	fs, err := programFiles(lang, typ)
	if err != nil {
		return nil, err
	}
	names := []string{ConfigFile, ReadmeFile}
	for _, f := range fs {
		names = append(names, f.name)
	}
	return names, nil
}

// Bundle is what a zip is built from.
type Bundle struct {
	Lang   string
	Config Config
	// Port is the port the README tells the program to serve on (and whose
	// /callback is the redirect URI); 0 means 8080.
	Port int
	// ModTime stamps the zip's entries.
	ModTime time.Time
}

// DefaultPort is the port the programs serve on unless PORT says otherwise.
const DefaultPort = 8080

// RedirectURI is the programs' redirect URI on port (0 means DefaultPort).
func RedirectURI(port int) string {
	if port == 0 {
		port = DefaultPort
	}
	return fmt.Sprintf("http://127.0.0.1:%d/callback", port)
}

// Filename is the suggested name of the zip.
func Filename(lang, typ, clientID string) string {
	return fmt.Sprintf("coze_oauth_%s_%s_%s.zip", typ, lang, clientID)
}

// Build writes the zip of b to w: every file at the top level, *.sh
// executable (0755), the rest 0644.
func Build(w io.Writer, b Bundle) error {
	if err := b.Config.Validate(); err != nil {
		return err
	}
	files, err := programFiles(b.Lang, b.Config.ClientType)
	if err != nil {
		return err
	}
	cfg, err := b.Config.Marshal()
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	add := func(name string, body []byte) error {
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.ModTime}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = fw.Write(body)
		return err
	}
	if err := add(ConfigFile, cfg); err != nil {
		return err
	}
	if err := add(ReadmeFile, []byte(readme(b.Lang, b.Config, b.Port))); err != nil {
		return err
	}
	for _, f := range files {
		body, err := fs.ReadFile(programs, f.src)
		if err != nil {
			return err
		}
		if err := add(f.name, body); err != nil {
			return err
		}
	}
	return zw.Close()
}
