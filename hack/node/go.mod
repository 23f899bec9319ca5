module secovia.local/nodeimages

go 1.24
