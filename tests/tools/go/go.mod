module hostup.test/gotools

go 1.19
