package cdk8s

import (
	_jsii_ "github.com/aws/jsii-runtime-go/runtime"
)

type IAnyProducer interface {
	Produce() interface{}
}

// The jsii proxy for IAnyProducer
type jsiiProxy_IAnyProducer struct {
	_ byte // padding
}

func (i *jsiiProxy_IAnyProducer) Produce() interface{} {
	var returns interface{}

	_jsii_.Invoke(
		i,
		"produce",
		nil, // no parameters
		&returns,
	)

	return returns
}
