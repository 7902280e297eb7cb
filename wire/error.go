package wire

// Error is an error with the fields of PostgreSQL's ErrorResponse. Errors
// that reach a client are sent with these fields; an error of another type is
// sent with the code from its SQLState() method when it has one, and with
// XX000 (internal_error) otherwise.
type Error struct {
	Severity         string // ERROR unless set; FATAL closes the connection
	Code             string // SQLSTATE, from github.com/jackc/pgerrcode
	Message          string
	Detail           string
	Hint             string
	Position         int32
	InternalPosition int32
	InternalQuery    string
	Where            string
	SchemaName       string
	TableName        string
	ColumnName       string
	DataTypeName     string
	ConstraintName   string
	File             string
	Line             int32
	Routine          string
}

// Error returns the message, as PostgreSQL's clients print it.
func (e *Error) Error() string {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	return sev + ": " + e.Message + " (SQLSTATE " + e.Code + ")"
}

// SQLState returns the error's SQLSTATE code.
func (e *Error) SQLState() string { return e.Code }
