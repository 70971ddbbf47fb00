package awsdb

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Secret holds database credentials in the shapes RDS uses: the secret CDK or RDS generates for
// an instance (username, password, host, port, dbname, engine) and the RDS-managed master user
// secret (username and password only; host and port then come from the instance).
type Secret struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	DBName   string `json:"dbname,omitempty"`
	Engine   string `json:"engine,omitempty"`
}

type secretJSON struct {
	Username string          `json:"username"`
	Password string          `json:"password"`
	Host     string          `json:"host"`
	Port     json.RawMessage `json:"port"`
	DBName   string          `json:"dbname"`
	Engine   string          `json:"engine"`
}

// ParseSecret reads the JSON of an RDS secret.
func ParseSecret(arn, text string) (Secret, error) {
	var raw secretJSON
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		// The decoder's message could quote the value; say only what is wrong.
		return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s is not a JSON object: an RDS secret looks like "+
			`{"username": "...", "password": "...", "host": "...", "port": 5432, "dbname": "..."}`, arn)}
	}
	s := Secret{Username: raw.Username, Password: raw.Password, Host: raw.Host, DBName: raw.DBName, Engine: raw.Engine}
	if s.Password == "" {
		return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s has no \"password\" key: it is not an RDS database secret", arn)}
	}
	if s.Username == "" {
		return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s has no \"username\" key: it is not an RDS database secret", arn)}
	}
	if len(raw.Port) > 0 && string(raw.Port) != "null" {
		var n int
		if err := json.Unmarshal(raw.Port, &n); err != nil {
			var str string
			if json.Unmarshal(raw.Port, &str) != nil {
				return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s: \"port\" is not a number", arn)}
			}
			if n, err = strconv.Atoi(str); err != nil {
				return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s: \"port\" is not a number", arn)}
			}
		}
		s.Port = n
	}
	if s.Engine != "" && s.Engine != "postgres" && s.Engine != "aurora-postgresql" {
		return Secret{}, &Error{Kind: KindConfig, Msg: fmt.Sprintf("secret %s is for engine %q, not PostgreSQL", arn, s.Engine)}
	}
	return s, nil
}
