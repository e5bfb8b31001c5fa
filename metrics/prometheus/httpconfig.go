package prometheus

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"rightsize.dev/rightsize/internal/untrusted"
)

// The HTTP client is Prometheus's own (github.com/prometheus/common/config):
// the file Options.HTTPConfigFile names has the shape promtool's
// --http.config.file takes, and the connection options are shorthands that
// fill in the same configuration.

// ConflictError is a setting made both by options and by the HTTP client
// configuration file: which one was meant cannot be guessed.
type ConflictError struct {
	// Setting says what both set ("authentication", "header X-Scope-Orgid").
	Setting string
	// Options are the Options fields that set it (BearerTokenFile, Headers).
	Options []string
	// Key is where the file sets it (basic_auth, tls_config.ca_file).
	Key string
	// File is the HTTP client configuration file.
	File string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s is set both by %s and by %s in the HTTP client configuration file %s: give one",
		e.Setting, strings.Join(e.Options, ", "), e.Key, untrusted.Quote(e.File, untrusted.MaxQuoted))
}

// yamlKeys are the keys a YAML document sets, nested; a leaf is nil.
type yamlKeys map[string]yamlKeys

// has reports whether the key path is set.
func (k yamlKeys) has(path ...string) bool {
	for _, p := range path {
		next, ok := k[p]
		if !ok {
			return false
		}
		k = next
	}
	return true
}

// first returns the first of the keys that is set, "" if none is.
func (k yamlKeys) first(keys ...string) string {
	for _, key := range keys {
		if _, ok := k[key]; ok {
			return key
		}
	}
	return ""
}

// keysOf lists the keys of a YAML node. The configuration's own decoding
// cannot tell a key set to its zero value (insecure_skip_verify: false)
// from one left out, and a conflict or the proxy default depends on it.
// Aliases are followed once each (seen), so a document of nested aliases
// costs no more than its nodes.
func keysOf(n *yaml.Node, seen map[*yaml.Node]yamlKeys) yamlKeys {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return yamlKeys{}
		}
		return keysOf(n.Content[0], seen)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil
		}
		return keysOf(n.Alias, seen)
	case yaml.MappingNode:
	default:
		return nil
	}
	if k, ok := seen[n]; ok {
		return k
	}
	k := yamlKeys{}
	seen[n] = k
	for i := 0; i+1 < len(n.Content); i += 2 {
		sub := keysOf(n.Content[i+1], seen)
		if n.Content[i].Value == "<<" { // a merge: its keys are this mapping's
			for name, v := range sub {
				if _, ok := k[name]; !ok {
					k[name] = v
				}
			}
			continue
		}
		k[n.Content[i].Value] = sub
	}
	return k
}

// quotedValue matches what errors in the file quote of a value: YAML's
// ("cannot unmarshal !!str `hunter2` into bool") and a URL that does not
// parse (`parse "http://user:hunter2@…"`). It may be a secret.
var quotedValue = regexp.MustCompile("`[^`]*`|parse \"(?:[^\"\\\\]|\\\\.)*\"")

// loadHTTPConfigFile reads an HTTP client configuration file as promtool
// does (relative paths in it are relative to the file) and lists the keys
// it sets.
func loadHTTPConfigFile(name string) (*config.HTTPClientConfig, yamlKeys, error) {
	fail := func(err error) error {
		msg := quotedValue.ReplaceAllStringFunc(err.Error(), func(q string) string {
			if strings.HasPrefix(q, "parse ") {
				return `parse "…"`
			}
			return "`…`"
		})
		msg = strings.ReplaceAll(strings.TrimSpace(msg), "\n  ", " ")
		return fmt.Errorf("HTTP client configuration file %s: %s", untrusted.Quote(name, untrusted.MaxQuoted), untrusted.Clip(msg, maxMessage))
	}
	cfg, content, err := config.LoadHTTPConfigFile(name)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("reading the HTTP client configuration file: %w", pe)
		}
		return nil, nil, fail(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, nil, fail(err)
	}
	return cfg, keysOf(&doc, map[*yaml.Node]yamlKeys{}), nil
}

// authKeys are the keys of the file that authenticate; one at most may be
// set.
var authKeys = []string{"authorization", "bearer_token", "bearer_token_file", "basic_auth", "oauth2"}

// httpClientConfig returns the HTTP client configuration: the file's, if
// there is one, with the options filled in. A setting both make is an
// error (ConflictError), as is a configuration the library refuses.
func (o Options) httpClientConfig() (config.HTTPClientConfig, error) {
	m := configMerge{o: o, cfg: config.DefaultHTTPClientConfig, keys: yamlKeys{}}
	if o.HTTPConfigFile != "" {
		file, k, err := loadHTTPConfigFile(o.HTTPConfigFile)
		if err != nil {
			return m.cfg, err
		}
		m.cfg, m.keys = *file, k
	}
	m.auth()
	m.tls()
	m.headers()
	// Proxies come from the environment (HTTPS_PROXY, NO_PROXY) unless the
	// file says otherwise.
	if m.keys.first("proxy_url", "no_proxy", "proxy_from_environment") == "" {
		m.cfg.ProxyFromEnvironment = true
	}
	// HTTP/1.1 unless the file asks for HTTP/2: the concurrent requests go
	// over connections of their own, each with its own flow control,
	// rather than share one.
	if !m.keys.has("enable_http2") {
		m.cfg.EnableHTTP2 = false
	}
	if err := errors.Join(m.errs...); err != nil {
		return m.cfg, err
	}
	if err := m.cfg.Validate(); err != nil {
		return m.cfg, fmt.Errorf("HTTP client configuration: %w", err)
	}
	return m.cfg, nil
}

// configMerge fills the options into the file's configuration, a conflict
// for each setting both give.
type configMerge struct {
	o    Options
	cfg  config.HTTPClientConfig
	keys yamlKeys
	errs []error
}

func (m *configMerge) conflict(setting, key string, options ...string) {
	m.errs = append(m.errs, &ConflictError{Setting: setting, Options: options, Key: key, File: m.o.HTTPConfigFile})
}

// optionField is an option by name and whether it was given.
type optionField struct {
	name string
	set  bool
}

// given names the options given.
func given(fields ...optionField) []string {
	var names []string
	for _, f := range fields {
		if f.set {
			names = append(names, f.name)
		}
	}
	return names
}

// auth sets a bearer token or basic authentication.
func (m *configMerge) auth() {
	o := m.o
	opts := given(optionField{"BearerToken", o.BearerToken != ""}, optionField{"BearerTokenFile", o.BearerTokenFile != ""},
		optionField{"Username", o.Username != ""}, optionField{"Password", o.Password != ""}, optionField{"PasswordFile", o.PasswordFile != ""})
	if len(opts) == 0 {
		return
	}
	switch key := m.keys.first(authKeys...); {
	case key != "":
		m.conflict("authentication", key, opts...)
	case o.BearerToken != "" || o.BearerTokenFile != "":
		m.cfg.Authorization = &config.Authorization{Type: "Bearer", Credentials: o.BearerToken, CredentialsFile: o.BearerTokenFile}
	default:
		m.cfg.BasicAuth = &config.BasicAuth{Username: o.Username, Password: o.Password, PasswordFile: o.PasswordFile}
	}
}

// tls sets the CA certificates, the client certificate and whether
// certificates are verified.
func (m *configMerge) tls() {
	o := m.o
	tlsKeys := m.keys["tls_config"]
	if o.CAFile != "" {
		if key := tlsKeys.first("ca", "ca_file", "ca_ref"); key != "" {
			m.conflict("the CA certificates", "tls_config."+key, "CAFile")
		} else {
			m.cfg.TLSConfig.CAFile = o.CAFile
		}
	}
	if opts := given(optionField{"CertFile", o.CertFile != ""}, optionField{"KeyFile", o.KeyFile != ""}); len(opts) > 0 {
		if key := tlsKeys.first("cert", "cert_file", "cert_ref", "key", "key_file", "key_ref"); key != "" {
			m.conflict("the client certificate", "tls_config."+key, opts...)
		} else {
			m.cfg.TLSConfig.CertFile, m.cfg.TLSConfig.KeyFile = o.CertFile, o.KeyFile
		}
	}
	if o.InsecureSkipVerify {
		if tlsKeys.has("insecure_skip_verify") {
			m.conflict("certificate verification", "tls_config.insecure_skip_verify", "InsecureSkipVerify")
		} else {
			m.cfg.TLSConfig.InsecureSkipVerify = true
		}
	}
}

// headers adds the options' headers to the file's, a header both name
// being a conflict.
func (m *configMerge) headers() {
	if len(m.o.Headers) == 0 {
		return
	}
	h := &config.Headers{Headers: map[string]config.Header{}}
	if m.cfg.HTTPHeaders != nil {
		for name, v := range m.cfg.HTTPHeaders.Headers {
			h.Headers[name] = v
		}
	}
	fileNames := map[string]string{}
	for name := range h.Headers {
		fileNames[http.CanonicalHeaderKey(name)] = name
	}
	for _, name := range sortedKeys(m.o.Headers) {
		if reservedHeader(name) {
			continue // refused by Validate, with the reason
		}
		if fileName, ok := fileNames[http.CanonicalHeaderKey(name)]; ok {
			m.conflict("header "+untrusted.Clip(name, untrusted.MaxQuoted), "http_headers."+untrusted.Clip(fileName, untrusted.MaxQuoted), "Headers")
			continue
		}
		// Secrets: a header may carry a tenant's key, and a Secret is
		// never written out with the configuration.
		var values []config.Secret
		for _, v := range m.o.Headers[name] {
			values = append(values, config.Secret(v))
		}
		h.Headers[name] = config.Header{Secrets: values}
	}
	m.cfg.HTTPHeaders = h
}

// checkCA reads the CA certificates up front: the library would refuse
// a file without any with "unable to use specified CA cert", which does
// not say what is wrong with it.
func checkCA(c config.TLSConfig) error {
	pem := []byte(c.CA)
	if c.CAFile != "" {
		b, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("reading CA file: %w", err)
		}
		pem = b
	} else if c.CA == "" {
		return nil
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		if c.CAFile != "" {
			return fmt.Errorf("CA file %s holds no PEM certificate", untrusted.Quote(c.CAFile, untrusted.MaxQuoted))
		}
		return errors.New("the CA (tls_config.ca) holds no PEM certificate")
	}
	return nil
}

// configFiles names the files the configuration reads for every request,
// so that a failure to read one says which it is.
func configFiles(c config.HTTPClientConfig) map[string]string {
	files := map[string]string{}
	add := func(path, what string) {
		if path != "" {
			files[path] = what
		}
	}
	if a := c.Authorization; a != nil {
		what := "credentials file"
		if strings.EqualFold(a.Type, "Bearer") {
			what = "bearer token file"
		}
		add(a.CredentialsFile, what)
	}
	if b := c.BasicAuth; b != nil {
		add(b.UsernameFile, "username file")
		add(b.PasswordFile, "password file")
	}
	if o := c.OAuth2; o != nil {
		add(o.ClientSecretFile, "OAuth2 client secret file")
		add(o.ClientCertificateKeyFile, "OAuth2 client certificate key file")
	}
	add(c.TLSConfig.CAFile, "CA file")
	add(c.TLSConfig.CertFile, "client certificate file")
	add(c.TLSConfig.KeyFile, "client key file")
	if c.HTTPHeaders != nil {
		for _, h := range c.HTTPHeaders.Headers {
			for _, f := range h.Files {
				add(f, "header file")
			}
		}
	}
	return files
}
