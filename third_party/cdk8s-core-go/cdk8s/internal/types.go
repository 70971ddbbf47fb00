package internal

import (
	"github.com/aws/constructs-go/constructs/v10"
)

type Type__constructsConstruct = constructs.Construct
