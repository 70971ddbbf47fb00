// Package pipeline holds the files the delivery pipeline runs: the CodeBuild buildspecs and the
// deploy script. They are ordinary files in the repository, loaded by the pipeline stack.
package pipeline

import _ "embed"

// TestSpec is the Build stage's Test action: make test.
//
//go:embed buildspec-test.yml
var TestSpec []byte

// ImageSpec is the Build stage's Image action: the image to ECR (built, or copied by digest
// from the source environment), manifests for that image's digest.
//
//go:embed buildspec-image.yml
var ImageSpec []byte

// PromoteScript copies an image list and its platform images between repositories by digest.
//
//go:embed promote.sh
var PromoteScript []byte

// DeploySpec is the Deploy stage: run deploy.sh against the cluster.
//
//go:embed buildspec-deploy.yml
var DeploySpec []byte

// DeployScript applies the manifests, replaces the migration Job and waits for it.
//
//go:embed deploy.sh
var DeployScript []byte

// ReviewSpec is the Review project: review.sh on a pull request's source commit (the script
// and the migrator come from the destination, main).
//
//go:embed buildspec-review.yml
var ReviewSpec []byte
