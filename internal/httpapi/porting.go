package httpapi

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"taxiihub/internal/admin"
)

// portingContext frees an export or import from the request timeout: each streams the whole hub,
// bounded by --min-transfer-rate as every transfer is, so that a large hub is not cut off after
// 30 seconds. A client that goes away still ends it.
func portingContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		if errors.Is(parent.Err(), context.Canceled) {
			cancel()
		}
	})
	return ctx, func() {
		stop()
		cancel()
	}
}

// export streams the whole hub as an export file. Once the first byte is sent the status is too:
// a failure after it cuts the stream, which the client sees as a file without its manifest.
func (h adminAPI) export(c *gin.Context) error {
	ctx, cancel := portingContext(c.Request.Context())
	defer cancel()
	c.Header("Content-Type", admin.ExportMediaType)
	c.Header("Content-Disposition", `attachment; filename="taxiihub-export.jsonl.zst"`)
	c.Status(http.StatusOK)
	res, err := h.svc.Export(ctx, actor(c), c.Writer)
	if err != nil && !c.Writer.Written() {
		c.Writer.Header().Del("Content-Disposition")
		return err
	}
	if err != nil {
		h.log.WarnContext(ctx, "export cut off", "error", err)
		panic(http.ErrAbortHandler) // drop the connection: the client must not take a partial file for a whole one
	}
	h.log.InfoContext(ctx, "hub exported", "objects", res.Manifest.Counts["object"], "bytes", res.Bytes)
	return nil
}

// importHub loads an export file, read as a stream from the body, into this (new) hub.
func (h adminAPI) importHub(c *gin.Context) error {
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != admin.ExportMediaType {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported-media-type",
			title: "Unsupported media type", description: "Send the export file as " + admin.ExportMediaType + "."}
	}
	ctx, cancel := portingContext(c.Request.Context())
	defer cancel()
	res, err := h.svc.Import(ctx, actor(c), c.Request.Body)
	if err != nil {
		return err
	}
	writeAdminJSON(c, http.StatusOK, res)
	return nil
}
