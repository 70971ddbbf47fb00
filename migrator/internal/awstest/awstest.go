// Package awstest runs moto_server, a real AWS API emulator, on 127.0.0.1 for tests, and gives
// them SDK clients and the environment that points the migrator at it.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Region is the region every test uses.
const Region = "us-east-1"

// Server is a running moto_server.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
}

// Start runs moto_server on a free port. extraEnv configures it, e.g.
// INITIAL_NO_AUTH_ACTION_COUNT=N to enforce IAM policies after N setup calls.
func Start(extraEnv ...string) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not found: install it with pip install 'moto[server]' (.ci/run does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto_server did not answer on %s: %w", s.Endpoint, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Env points the AWS SDK (and so the migrator) at the emulator with the given keys.
func (s *Server) Env(keyID, secret string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":          s.Endpoint,
		"AWS_ACCESS_KEY_ID":         keyID,
		"AWS_SECRET_ACCESS_KEY":     secret,
		"AWS_REGION":                Region,
		"AWS_EC2_METADATA_DISABLED": "true",
		"MIGRATOR_AWS_POLL":         "50ms",
	}
}

// Clients are SDK clients on the emulator, for test setup.
type Clients struct {
	SM  *secretsmanager.Client
	RDS *rds.Client
	IAM *iam.Client
}

// Clients returns clients that use the test's default keys.
func (s *Server) Clients() Clients { return s.ClientsAs("testing", "testing") }

// ClientsAs returns clients signing with the given keys.
func (s *Server) ClientsAs(keyID, secret string) Clients {
	cfg := aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint: aws.String(s.Endpoint)}
	return Clients{SM: secretsmanager.NewFromConfig(cfg), RDS: rds.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
}

// CreateSecret stores a secret and returns its ARN.
func (c Clients) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	out, err := c.SM.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// CreateInstance makes a PostgreSQL instance listening on port (the emulator invents the host).
func (c Clients) CreateInstance(t testing.TB, id string, port int32) {
	t.Helper()
	_, err := c.RDS.CreateDBInstance(context.Background(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id), Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"),
		AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("postgres"), MasterUserPassword: aws.String("not-used-here"),
		Port: aws.Int32(port),
	})
	if err != nil {
		t.Fatalf("create instance %s: %v", id, err)
	}
}
