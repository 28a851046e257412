module interopnetrpc

go 1.26.0
