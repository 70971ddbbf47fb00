// Package pipeline holds the files the delivery pipeline runs: the CodeBuild buildspecs and the
// deploy script. They are ordinary files in the repository, loaded by the pipeline stack.
package pipeline

import _ "embed"

// BuildSpec is the Build stage: tests, image, push to ECR, manifests for that image's digest.
//
//go:embed buildspec-build.yml
var BuildSpec []byte

// DeploySpec is the Deploy stage: run deploy.sh against the cluster.
//
//go:embed buildspec-deploy.yml
var DeploySpec []byte

// DeployScript applies the manifests, replaces the migration Job and waits for it.
//
//go:embed deploy.sh
var DeployScript []byte
