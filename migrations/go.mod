module github.com/carthub/carthub-db/migrations

go 1.26
