module github.com/carthub/carthub-db/names

go 1.26
